"""One module per screen: home (projects), model, documents, train, chat."""
