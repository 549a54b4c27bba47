"""The instruments the chapters teach with, built on the core (and its plots); the course uses them.

- :mod:`.lab` (the lab chapter): the GAN lab, one update at a time on 2-D data (session,
  pictures, widget).
- :mod:`.theory` (math): densities on a grid, D*, V(D, G), JSD, the 1-D Wasserstein distance.
- :mod:`.latent` and :mod:`.latent_widgets` (latent): directions, walks, truncation,
  interpolation, attribute arithmetic, style grids, and their live widgets.
- :mod:`.failures`, :mod:`.dynamics` and :mod:`.mistakes` (failures): mode collapse measured,
  the Dirac-GAN, and detectors for the common mistakes.
- :mod:`.inpainting` (applications): filling in hidden pixels by latent search.
- :mod:`.forensics` (future): detecting generated images, nearest-neighbour memorisation.
"""
