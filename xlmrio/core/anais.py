Aggregate = AnaisResult = CoefficientBound = ReferenceRegions = anais = coefficient_bounds_from_reference = None
