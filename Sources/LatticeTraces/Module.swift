public enum LatticeTracesModule {}
