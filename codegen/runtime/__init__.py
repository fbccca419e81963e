"""Sources of the generated package's modules that do not vary with the spec.

Each is copied into ``generated/runware_contract/`` with its first line (a comment)
replaced by the provenance line, so the copy's lines are the source's lines. They import
only each other (relative imports) and the standard library; codegen imports them too
(``rule_kinds.KINDS`` is the one list of rule kinds).
"""
