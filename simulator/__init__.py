"""A Twilio simulator: the product's test bench and its account-free demo.

Nothing in production code imports this package. It offers:

- ``simulator.rest.FakeTwilioApi``: the slice of Twilio's REST API Voiceline uses, served on
  127.0.0.1 with HTTP basic auth and Twilio-shaped JSON and error bodies;
- ``simulator.twiml``: a TwiML interpreter that follows a call the way Twilio does;
- ``simulator.phones``: virtual handsets for customers and analysts, and
  ``simulator.engine.Simulator``, the engine that rings them, signs and posts every
  webhook, and delivers status callbacks;
- ``simulator.web``: the handset page, one column per phone;
- ``simulator.testing``: pytest fixtures and the test DSL.
"""
