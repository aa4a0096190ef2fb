"""reportgen: experiment notebooks executed with papermill and published as a MkDocs Material portfolio.

Two halves joined by one contract:
- the practice (`reportgen.practice`): the course's data, augmentation, models, training,
  evaluation and explanations, called by the shipped notebook; it records numbers through
  `reportgen.record`, the public recording API any notebook may use;
- the generator: `runs` (run files checked against their notebook, cache, execution, lock),
  `notebook` (any executed notebook read on its own: headings, outputs, timings, tags), `harvest`
  and `results` (a results folder read back without ML libraries), `render` (pages), `site` and `cli`.
`errors` holds the one exception hierarchy and the exit codes.
"""

__version__ = "0.1.0"
