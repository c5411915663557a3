public enum LatticeProtocolModule {}
