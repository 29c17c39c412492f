"""One module per ATS: the client and the mapping to and from `Candidate`."""
