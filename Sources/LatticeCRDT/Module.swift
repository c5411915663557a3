public enum LatticeCRDTModule {}
