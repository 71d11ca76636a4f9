"""What a department does through its personal link: the submission, and the attachments that
go with it (what is accepted, how names are shown, how the bytes are checked and kept)."""
