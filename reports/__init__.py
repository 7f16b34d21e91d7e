"""The console dashboard's figures: aggregates kept as transactions commit, read per scope."""
