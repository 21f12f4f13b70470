"""The predictor side: :class:`~fsregistry.predict.predictor.ModelPredictor` and what it
needs to turn caller data into a model's predictions - the input schema
(:mod:`~fsregistry.predict.schema`), the loaded model and its adapters
(:mod:`~fsregistry.predict.loaded`, :mod:`~fsregistry.predict.outputs`), batches read from
files (:mod:`~fsregistry.predict.batch`) and scoring on Dask
(:mod:`~fsregistry.predict.distributed`)."""
