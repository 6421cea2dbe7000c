"""cloudlet: AWS's managed data services on your own machine, in one Python process."""

__version__ = "0.1.0"

# The on-disk format of the data directory. Bump when stored data changes shape
# incompatibly; a data dir written with another format is refused at start-up.
DATA_FORMAT = 1
