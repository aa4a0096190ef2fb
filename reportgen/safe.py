"""The one gate for untrusted input: a portfolio's results folders, run files and notebooks.

Everything a portfolio contains may have been written by someone else: a reviewer renders other
people's work. What crosses from a portfolio onto a page passes here:

- paths read from a results folder resolve inside that folder (no symlink out, no '..', no absolute
  path), and a run's notebook lies under experiments/;
- run ids follow one rule, checked once, for run files and matrix expansions;
- HTML that comes from a notebook (its Markdown rendered, its HTML outputs) passes an allow-list
  sanitiser after Markdown has been rendered, so no script, event handler or script URL survives.
"""
