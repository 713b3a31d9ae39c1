"""Albums: hand-picked images from any folders, or a saved search; kept in the state folder."""
