"""Problems: data generators and objective / duality-gap functions, written in numpy only so that
every gap is evaluated independently of the package under test."""
