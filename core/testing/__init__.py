"""``tocsin.testing``: the conformance kit and fixtures for plugin authors' test suites."""
