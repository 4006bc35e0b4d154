"""The Mesa engine: businesses, engaged customers and silent observers as Mesa agents."""

from .business import Business
from .model import TrustModel
from .people import EngagedCustomer, Person, Post, SilentObserver

__all__ = ["Business", "EngagedCustomer", "Person", "Post", "SilentObserver", "TrustModel"]
