# scenarios/ - one file per family of scenarios; run.py imports every *.py here.
