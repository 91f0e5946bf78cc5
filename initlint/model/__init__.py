"""The semantic model: names, modules, flows and init sites of a file."""
