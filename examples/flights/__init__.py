"""A maintained real-data example domain: will a 2013 NYC departure arrive 15+ min late?"""
