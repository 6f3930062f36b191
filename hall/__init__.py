"""hall: runs government service halls (政务服务大厅) and networks of halls."""

__version__ = "0.1.0"
