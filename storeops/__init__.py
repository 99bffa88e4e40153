"""StoreOps: e-commerce operations platform."""
