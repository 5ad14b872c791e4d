print("phigate")
