"""Jobs an RQ worker runs against the server."""


def square(x):
    return x * x
