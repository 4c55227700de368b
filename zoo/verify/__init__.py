"""Verification: the plan (models x measurements), building the model a card means,
shards, and the pipeline that runs them (:func:`zoo.verify.pipeline.run_verify`)."""
