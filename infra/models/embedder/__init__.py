"""Alpha-CLIP-tiny / CLIP-tiny embedder of the shapes-tiny pack: model, training, export, report."""
