"""The Qt desktop app: views that listen to one session object and drive the core."""
