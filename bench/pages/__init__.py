"""The pages of the report: markdown templates (``templates/<workload>.md``) and the renderer that fills them
from result files."""
