"""Training: the generic loop (:mod:`.loop`) and each model's data and step."""
