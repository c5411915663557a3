public enum LatticeStreamsModule {}
