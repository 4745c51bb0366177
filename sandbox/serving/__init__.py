"""The adapters that serve a World over HTTP: `views` (Django views under /sandbox/, for `make run`) and
`server` (a process of its own, for the benchmarks). The test suite's adapter is `sandbox.testing`."""
