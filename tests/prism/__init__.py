"""Every generated method called against a Prism mock server built from the OpenAPI spec."""
