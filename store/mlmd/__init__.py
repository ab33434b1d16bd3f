"""MLMD's model in mlledger's database: types, nodes, links, filters, listings, walks."""
