"""torch.utils: data loading lives in ember.utils.data."""
from . import data, hooks  # noqa: F401
