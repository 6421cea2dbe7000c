"""cloudlet's benchmark suite: raw HTTP/1.1 load with real SigV4, never boto3 in the timed loop."""
