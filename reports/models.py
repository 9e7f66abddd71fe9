# Models arrive with this app's issue; see ../shared/ARCHITECTURE.md for its shape.
