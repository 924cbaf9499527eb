"""reconciler: a declarative, GitOps-style controller for fleets of Agora ConvoAI voice agents."""

__all__ = ["__version__"]

__version__ = "0.1.0"
