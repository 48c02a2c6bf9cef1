"""sessref: proves OpenSSL `SSL_SESSION` reference handling safe, or shows the path that
double-frees, dangles or leaks.

Pipeline (each stage imports only earlier ones):
language (grammar, parser, AST, resolver) -> model (OpenSSL semantics) -> execute/concrete/
encoding (one executor, two interpreters) -> solving (verdicts, replay) -> findings/advice
(report data) -> report_text/report_json (emitters) -> cli.
"""

__version__ = "0.1.0"
