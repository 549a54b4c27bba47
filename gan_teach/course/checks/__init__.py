"""One module of exercise checks per chapter, named after the chapter's notebook (``book/<name>.ipynb``)."""
