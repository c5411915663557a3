public enum LatticeWebSocketModule {}
