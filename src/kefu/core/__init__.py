"""Foundation shared by every domain: settings, database, jobs, errors, clock."""
