"""HTTP layer: app factory, routers, pages. Imported by nothing else."""
