"""What the project promises outside its code: protocol doc and schema, layering, README, packaging, benchmarks."""
