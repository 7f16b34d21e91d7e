"""Support requests: a member asks the community resource centre for help."""
