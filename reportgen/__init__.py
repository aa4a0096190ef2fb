"""reportgen: experiments on data augmentation and explainability, rendered as a portfolio site.

Modules, one concept each:
- config: the run file schema;  runs: execution, cache and locking;  record / harvest: results in and out
- data, augmentation, models, training, evaluation, xai, xai_checks, figures: the practice itself
- render, site, cli: Markdown pages, the MkDocs build and the command line
"""

__version__ = "0.1.0"
