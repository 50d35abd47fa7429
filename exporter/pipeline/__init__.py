"""The agent's pipeline, stage by stage: what the agent does with an app once Git and the cluster
have been read. ``evaluation`` judges one app's objects without any I/O."""
