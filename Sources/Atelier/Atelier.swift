// Atelier: the engine.
