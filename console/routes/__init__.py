"""One blueprint per area of the console; each serves its pages and their JSON API."""
