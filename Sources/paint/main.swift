print("paint: not yet")
