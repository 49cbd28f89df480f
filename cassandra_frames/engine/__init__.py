"""The engine: the only code that talks to the Cassandra driver."""
