"""The service layer as a library: one module per use case, each a function of a `Runtime`.

`runtime` (what every use case is given), `inputs` (targets, sectors, the snapshot),
`plan`, `check`, `execute`, `reconcile` (the account lock, settling unfinished runs),
`status` and `simulator` (`alch sim reset`). The CLI parses, calls one of these, renders.
"""
