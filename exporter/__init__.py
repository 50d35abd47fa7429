"""gitops-drift-exporter: a read-only agent that compares Git with what runs in Kubernetes."""

__version__ = "0.1.0"
